//! Minimal views (docs/privacy.md): which role sees which field that says something about a
//! person, in one table. The lists (where a provider reads its tokens) leave through `redact`;
//! the identity vault answers the operator alone (`Action::ReadIdentities`); and a test
//! (`tests/views.rs`) walks every read endpoint as each role and fails on any field this table
//! does not allow it.
//!
//! Invariant: a field named here reaches only the roles listed with it; a field not named here
//! says nothing about a person (pseudonyms, ids, dates, the contract's amounts) and reaches every
//! role the permission table (`Role::may`) lets read the endpoint.

use serde_json::Value;

use crate::auth::Role;

use Role::{Admin, Evaluator, Funder, Operator, Payer};

/// The roles that see a beneficiary's circumstances under its pseudonym: what the indicators
/// count and the settlement pays by. Not the provider: it serves a token, and needs no more of
/// the person than the token names.
const CIRCUMSTANCES: &[Role] = &[Admin, Operator, Payer, Funder, Evaluator];
/// Who sees an identity: the operator, who serves the person.
const IDENTITY: &[Role] = &[Operator];

/// Each field about a person, with the roles that see it.
pub const FIELDS: &[(&str, &[Role])] = &[
    // The identity vault: who the pseudonym is.
    ("given_name", IDENTITY),
    ("family_name", IDENTITY),
    ("fiscal_code", IDENTITY),
    ("birth_date", IDENTITY),
    ("contacts", IDENTITY),
    ("phone", IDENTITY),
    ("email", IDENTITY),
    ("address", IDENTITY),
    // Circumstances under the pseudonym, in the log.
    ("isee_band", CIRCUMSTANCES),
    ("household_size", CIRCUMSTANCES),
    ("age_band", CIRCUMSTANCES),
    ("flags", CIRCUMSTANCES),
    ("needs", CIRCUMSTANCES),
    ("score", CIRCUMSTANCES),
    // Prato: a household's multidimensional assessment.
    ("scores", CIRCUMSTANCES),
    // An order's price is its tariff for the person's ISEE band: it tells the band.
    ("price", CIRCUMSTANCES),
];

/// Whether `role` may see `field`.
pub fn may_see(role: Role, field: &str) -> bool {
    FIELDS
        .iter()
        .find(|(name, _)| *name == field)
        .is_none_or(|(_, roles)| roles.contains(&role))
}

/// Removes, at any depth, every field `role` may not see.
pub fn redact(role: Role, value: &mut Value) {
    match value {
        Value::Object(fields) => {
            fields.retain(|name, _| may_see(role, name));
            for field in fields.values_mut() {
                redact(role, field);
            }
        }
        Value::Array(items) => {
            for item in items {
                redact(role, item);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_provider_sees_the_pseudonym_and_the_token_but_not_the_band_nor_the_price() {
        let mut summary = serde_json::json!({"fields": {"beneficiary_id": "ben-1", "isee_band": "a",
            "price": "6.00", "token_code": "TK-1"}, "events": ["OrderPlaced"]});
        redact(Role::Provider, &mut summary);
        assert_eq!(
            summary,
            serde_json::json!({"fields": {"beneficiary_id": "ben-1", "token_code": "TK-1"},
                "events": ["OrderPlaced"]})
        );
        let mut same = serde_json::json!({"isee_band": "a"});
        redact(Role::Evaluator, &mut same);
        assert_eq!(same, serde_json::json!({"isee_band": "a"}));
    }
}
